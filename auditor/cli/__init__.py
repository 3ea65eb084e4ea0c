"""The `vcaudit` command line: the click commands (main, lists), exit codes and one-line errors
(errors) and what goes to the terminal (terminal). A thin face: each command imports what it
needs when it runs, so `vcaudit --help` starts fast.

May import: anything in auditor.
"""
