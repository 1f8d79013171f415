"""An example kobench plugin: a team's own LLaVA-style model as `--model myvlm:CHECKPOINT`.

modeling.py is the model (plain PyTorch, no kobench), checkpoint.py a checkpoint's layout and identity,
plugin.py kobench's adapter and its entry point, build.py a random checkpoint to try it with. Importing the
package imports nothing heavy: kobench loads the entry point (plugin.py) on every run.
"""
