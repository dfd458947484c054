"""Numbers the papers report, as data (so tables put them beside ours by code).

Sources: ``../shared/seeds/001_d3b49622f540680e.txt`` (Figures 8, 10, 11) and
``../shared/seeds/000_b38f9c3428c692f4.txt`` (Tables I-III).
"""

from __future__ import annotations

#: Paper 001 (HiSVidClassifier), UCF50, 4 classes, clip-level random 75/25 split, 122 test clips.
PAPER001: dict[str, dict[str, float]] = {
    "lrcn": {"params": 73060, "loss": 0.1935, "accuracy": 0.9508, "ms_per_step": 40.0},
    "convlstm": {"params": 44524, "loss": 0.3773, "accuracy": 0.8770, "ms_per_step": 205.0},
}

#: Paper 000, UCF101: Tables I (hybrid), II (CNN), III (RNN); metric -> value per set.
PAPER000_TABLES: dict[str, dict[str, dict[str, float]]] = {
    "hybrid": {
        "training": {"loss": 0.0413, "accuracy": 1.0000, "mse": 3.7218e-04, "mae": 0.0079, "auc": 1.0000},
        "validation": {"loss": 0.2218, "accuracy": 0.9300, "mse": 0.0080, "mae": 0.0211, "auc": 0.9968},
    },
    "cnn": {
        "training": {"loss": 2.0420, "accuracy": 0.9400, "mse": 0.0118, "mae": 0.0121, "auc": 0.9708},
        "validation": {"loss": 25.1349, "accuracy": 0.6700, "mse": 0.0631, "mae": 0.0650, "auc": 0.8311},
    },
    "rnn": {
        "training": {"loss": 2.3063, "accuracy": 0.1175, "mse": 0.0901, "mae": 0.1798, "auc": 0.5150},
        "validation": {"loss": 2.3501, "accuracy": 0.0500, "mse": 0.0909, "mae": 0.1808, "auc": 0.3950},
    },
}
