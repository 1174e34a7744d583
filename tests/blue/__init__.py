"""Tests of hepcombine.blue."""
