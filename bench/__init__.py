"""`make bench`: the numbers that matter to users, side by side with what they would pick instead."""
