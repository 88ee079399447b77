"""Tests of the artvid package."""
