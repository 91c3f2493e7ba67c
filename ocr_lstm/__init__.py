"""ocr-lstm: scene-text recognition with a CRNN (CNN + bidirectional LSTM + CTC)."""
__version__ = "0.1.0"
