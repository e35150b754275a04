"""Read a talk, its front matter and includes, and expand its macros, keeping the origin of every line."""
