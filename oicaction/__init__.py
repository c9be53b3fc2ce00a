"""oic-build: build Oracle Integration (OIC) integrations from source control."""

__version__ = "0.1.0"
