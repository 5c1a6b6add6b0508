"""Helpers for test_cri.py: a CRI client and a containerd set up for it."""
