"""Tests of hepcombine.inputs."""
