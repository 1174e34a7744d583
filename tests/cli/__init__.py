"""Tests of hepcombine.cli."""
