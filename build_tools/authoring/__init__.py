"""Tools for authors and maintainers: repairs, new files, the live preview, the CI workflow."""
