"""Render the embedded UCF50-layout dataset (:func:`helpers.synthetic.generate_dataset`) for ``make embedded``.

    python scripts/embedded.py OUT_DIR [--quick] [--seed N] [--overwrite]
"""

from __future__ import annotations

import argparse

from helpers.synthetic import embedded_settings, generate_dataset


def main(argv: list[str] | None = None) -> None:
    """``python scripts/embedded.py OUT_DIR [--quick] [--seed N] [--overwrite]``."""
    parser = argparse.ArgumentParser(description="Render the embedded UCF50-layout dataset.")
    parser.add_argument("out_dir")
    parser.add_argument("--quick", action="store_true", help="the small quick-profile dataset")
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    root = generate_dataset(args.out_dir, seed=args.seed, overwrite=args.overwrite,
                            **embedded_settings(quick=args.quick))
    print(f"embedded dataset ready: {root}")


if __name__ == "__main__":
    main()
