"""The Great Expectations suites, one JSON file per input dataset and per mart (marts/): package data, read with
importlib.resources by pipelines/validation.py."""
