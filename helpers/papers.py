"""Numbers the papers report, as data (so tables put them beside ours by code).

Sources (CITATION.cff cites both): paper 001, Hamadain, Osman and Hamed, "A New Image
Classification Method at A High-Speed Using a Deep Convolutional (Conv2D) and Long Short-Term
Memory (LSTM) Algorithm" (Figures 8, 10, 11); paper 000, "Deep learning for image and video
processing" (Tables I-III); paper 002, "Deep Learning Techniques for Image Recognition and Classification"
(Table 4.1).
"""

from __future__ import annotations

#: Paper 001 (HiSVidClassifier), UCF50, 4 classes, clip-level random 75/25 split, 122 test clips.
PAPER001: dict[str, dict[str, float]] = {
    "lrcn": {"params": 73060, "loss": 0.1935, "accuracy": 0.9508, "ms_per_step": 40.0},
    "convlstm": {"params": 44524, "loss": 0.3773, "accuracy": 0.8770, "ms_per_step": 205.0},
}
#: Paper 001's test set size (25 % of its 4 classes' clips); its accuracies are whole counts of it.
PAPER001_TEST_CLIPS = 122
#: Test clips paper 001's models got right: 116/122 = 0.9508 (LRCN), 107/122 = 0.8770 (ConvLSTM).
PAPER001_CORRECT: dict[str, int] = {"lrcn": 116, "convlstm": 107}

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

# --- Paper 000: the metrics it reports and its tables' titles ---

#: Paper 000's metrics in the order of its tables (our column names).
PAPER000_METRICS: tuple[str, ...] = ("loss", "accuracy", "mse", "mae", "auc")
#: Each model's table, as the paper titles it.
PAPER000_TITLES: dict[str, str] = {
    "hybrid": "TABLE I. Hybrid model evaluation",
    "cnn": "TABLE II. CNN model evaluation",
    "rnn": "TABLE III. RNN model evaluation",
}


def paper000_metrics() -> list:
    """Fresh Keras metrics for paper 000's tables: accuracy, MSE, MAE and AUC (loss comes with ``compile``).

    Metric objects hold state, so call this once per model. On one-hot labels and softmax
    outputs MSE and MAE average over every (clip, class) cell and AUC is Keras' default
    (ROC, labels flattened), which is what Keras reports when given these names.

    Returns:
        ``["accuracy", MeanSquaredError("mse"), MeanAbsoluteError("mae"), AUC("auc")]``.
    """
    import keras  # lazy: the rest of this module is plain data, read by the README report

    return ["accuracy", keras.metrics.MeanSquaredError(name="mse"), keras.metrics.MeanAbsoluteError(name="mae"),
            keras.metrics.AUC(name="auc")]


#: Paper 002, Table 4.1, as printed: each column quotes a different model, task and dataset
#: from another paper (ResNet on ImageNet, an LSTM captioner, a DCGAN, a CNN-RNN on video).
#: "Robustness" and "complexity" are adjectives, not measurements. Kept as data so notebook
#: 05 can show it beside its table, clearly marked as not comparable.
PAPER002_TABLE41: dict[str, dict[str, str]] = {
    "CNNs": {"accuracy": "97.3% (ResNet on ImageNet)", "gflops": "7.2 (AlexNet)", "robustness": "High",
             "task": "Static images", "complexity": "Medium"},
    "RNNs": {"accuracy": "75% (LSTM for image captioning)", "gflops": "20 (Seq2Seq)", "robustness": "Medium",
             "task": "Sequential data", "complexity": "High"},
    "GANs": {"accuracy": "85% (DCGAN for image generation)", "gflops": "56.3 (GAN)", "robustness": "Medium",
             "task": "Generative tasks", "complexity": "High"},
    "Hybrid Models": {"accuracy": "98.2% (CNN-RNN for video analysis)", "gflops": "30 (Hybrid)",
                      "robustness": "High", "task": "Complex tasks", "complexity": "Very High"},
}
