"""What the repository builds: one image per product from the one Dockerfile. What each product reads,
listens on and uses in Kafka comes from its executable (settings.py), not from here."""

PRODUCTS = ("auth-service", "media-service", "analysis-service")
# The reference ML worker (SPEC.md section 5): its own executable and image, no HTTP port, no
# subcommand, Kafka only. Only its image has ffmpeg and PocketSphinx.
WORKER_PRODUCT = "caption-worker"
IMAGES = PRODUCTS + (WORKER_PRODUCT,)
WORKER_PACKAGES = ("ffmpeg", "libpocketsphinx3", "pocketsphinx-en-us")
# The ECS service that runs the caption-worker image.
WORKER_ECS_SERVICE = "ml-worker"
# Partitions of every topic (compose's kafka-init; data.yaml's TopicPartitions default).
PARTITIONS = 3
# How a service reaches a managed Kafka (MSK): not read in compose, required in ECS.
KAFKA_SASL = ["KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"]
