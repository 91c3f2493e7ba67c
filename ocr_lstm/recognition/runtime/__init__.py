"""What runs the model: PyTorch or ONNX Runtime (:mod:`.backend` chooses), and the ONNX export."""
