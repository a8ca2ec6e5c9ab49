"""Configuration: YAML under config/, validated into typed models."""

from pilotwatch.config.loader import ConfigError, load_config
from pilotwatch.config.models import Config

__all__ = ["Config", "ConfigError", "load_config"]
