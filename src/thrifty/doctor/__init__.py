"""thrifty doctor: run a program, measure where its memory goes, and say which habit to change."""
