"""Tests of hepcombine.outputs."""
