"""This node's network: pod sandboxes, the Service proxy, cluster DNS and the ingress proxy."""
