"""Reading a word image or a line cut: the :class:`~ocr_lstm.recognition.recognizer.Recognizer` and its parts.

``recognizer`` composes image preparation, a runner (``runtime/``: PyTorch or ONNX Runtime, and the
ONNX export) and the ``decoding`` of the frames (CTC maths in ``ctc``, a leaf; the English
``word_prior`` as a rescorer); ``options`` declares each option once for the API, the CLI and the
service; ``explain`` traces the LSTM's gates over a reading. Callers outside the library import
these through :mod:`ocr_lstm.predictors`.
"""
