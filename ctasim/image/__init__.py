"""DL1 image processing: cleaning and image parameters over blocks of images of one camera."""

from .cleaning import (
    DEFAULT_CLEANING,
    CleaningConfig,
    clean_images,
    default_cleaning,
    tailcuts_clean,
    time_delta_clean,
)
from .parameters import image_parameters, process_images
from .pixels import TelescopePixels, border_pixel_masks, telescope_pixels

__all__ = [
    "DEFAULT_CLEANING",
    "CleaningConfig",
    "TelescopePixels",
    "border_pixel_masks",
    "clean_images",
    "default_cleaning",
    "image_parameters",
    "process_images",
    "tailcuts_clean",
    "telescope_pixels",
    "time_delta_clean",
]
