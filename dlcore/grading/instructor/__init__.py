"""The instructor's grader (`python -m dlcore.grading`): not learner code.

sandbox.py starts each notebook in its own sandbox (bubblewrap, or a documented weaker
mode) that sees a learner view of dlcore without this package, the exercises'
references or any instructor material; inside.py is what runs there; channel.py is the
one channel between them, read with hard limits; grader.py plans, runs and judges;
static.py flags graded functions whose source uses dlcore's own implementation of their
op; report.py writes the CSV and the summary; cli.py is the command.
"""
