"""The exported graph's contract, shared by the exporter and the runner: its opset, and the names
of its inputs (``images`` (B, 1, 32, W) in [-1, 1], ``widths`` (B,) in pixels) and output
(``log_probs`` (T, B, C))."""

OPSET = 17
INPUT_IMAGES = "images"
INPUT_WIDTHS = "widths"
OUTPUT = "log_probs"
