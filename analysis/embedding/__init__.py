"""Local sentence embeddings: the torch reference (minilm) and the ONNX Runtime backend."""
