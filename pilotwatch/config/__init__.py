"""Configuration: YAML under config/, validated into typed models."""

from core.models import Config
from pilotwatch.config.loader import ConfigError, load_config

__all__ = ["Config", "ConfigError", "load_config"]
