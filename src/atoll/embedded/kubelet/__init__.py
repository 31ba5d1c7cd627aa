"""The embedded cluster's kubelet: runtimes, volumes, probes, logs, exec and metrics."""
