"""Reading and keeping files safely: UTF-8 text with the line named, SQLite stores never trusted damaged."""
