"""What is done with results: leaderboards, a run's summary, README blocks, plots and the CI gate.

None of it needs the model or the data: results.json holds everything these read.
"""
