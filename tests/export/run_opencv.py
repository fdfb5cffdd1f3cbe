#!/usr/bin/python3
"""Runs an ONNX file in an independent runtime, OpenCV's dnn module (python3-opencv):
cv2.dnn.readNetFromONNX, one forward pass of a float32 .npy batch, the output written as .npy.

Usage: run_opencv.py MODEL.onnx INPUT.npy OUTPUT.npy
Exit 77 when cv2 cannot be imported (the caller skips)."""
import sys

import numpy as np

try:
    import cv2
except ImportError as e:
    print("skipped: cv2 is not importable: %s" % e)
    sys.exit(77)


def main():
    model, src, dst = sys.argv[1:4]
    cv2.setNumThreads(2)
    net = cv2.dnn.readNetFromONNX(model)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    x = np.ascontiguousarray(np.load(src).astype(np.float32))
    net.setInput(x)
    y = net.forward()
    np.save(dst, np.asarray(y, dtype=np.float32))
    print("opencv %s: %s -> %s %s" % (cv2.__version__, x.shape, y.shape, dst))


if __name__ == "__main__":
    main()
