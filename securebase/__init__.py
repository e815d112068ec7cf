"""What the nightly refresh (pipelines/) and the dashboard (dashboard/) share, so that neither imports the other:
the settings, the files kept beside a warehouse, and the version of its tables."""
