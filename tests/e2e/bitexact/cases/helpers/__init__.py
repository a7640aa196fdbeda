"""Helper package shared by bit-exactness cases (copied next to each case)."""
