"""`kobench speed`: latency and throughput on real benchmark inputs, warm-up runs first, the device
synchronised before every clock read (clock.py), written as the efficiency results' speed.json."""
