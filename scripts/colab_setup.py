# Colab (or another hosted notebook): run this cell first. Anywhere else it does nothing.
import os
import subprocess
import sys

REPO = ""  # this repository's clone URL: on its GitHub page, the green "Code" button, HTTPS
QUICK_RUN = True  # the quick profile (minutes); False for the full run

if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
    if not REPO.strip():
        raise ValueError("REPO is empty: set it in this cell to this repository's clone URL (its GitHub page, "
                         "green 'Code' button, HTTPS), then run the cell again")
    if not os.path.isdir("/content/har/.git"):
        subprocess.run(["git", "clone", "--depth", "1", REPO.strip(), "/content/har"], check=True)
    # only what Colab lacks; its ipykernel, IPython, notebook, tornado, pandas and NumPy stay as they are
    subprocess.run([sys.executable, "/content/har/scripts/colab_install.py"], check=True)
    sys.path.insert(0, "/content/har")
    os.environ["PYTHONPATH"] = "/content/har"  # worker processes and `python -m helpers` find the package too
    os.chdir("/content/har/notebooks")
    os.environ["HAR_QUICK"] = "1" if QUICK_RUN else "0"
