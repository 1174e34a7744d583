"""Tests of hepcombine.plots."""
