"""HTTP surface: quota headers, the one error body, middleware."""
