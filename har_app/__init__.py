"""har_app: the application on top of :mod:`helpers`: the command line, live sources, the page, your own folder.

``helpers`` is the library the notebooks share (decoding, caching, the tf.data pipeline, splits, inference,
download); this package is what a person runs, one module per command, each importing ``helpers`` and nothing
above it (``studies``, the tools):

- ``live``: cameras and live streams classified as they play (``classify --camera 0``, ``rtsp://``, HLS).
- ``own_videos``: a folder of your own videos -> a trained model, its card and report (``train``).
- ``demo``: the page in the browser (``demo``; Gradio, imported only when it serves).
- ``cli``: the command line, ``python -m helpers {classify,export,env,train,demo}`` (also ``python -m har_app``
  and the ``har-classify`` script).

Neither Gradio, TensorFlow, Keras nor matplotlib is imported until a command needs it: classifying with an
exported ``.tflite`` model runs without TensorFlow installed.
"""
