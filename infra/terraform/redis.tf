# Redis on ElastiCache: Reflex's state (REFLEX_REDIS_URL) and the app's events across
# tasks (REDIS_URL). Private subnets, reachable only from the app tasks, encrypted at
# rest and in transit (rediss://) and protected by an AUTH token.

resource "aws_elasticache_subnet_group" "main" {
  name        = local.name
  description = "Private subnets of ${local.name}"
  subnet_ids  = aws_subnet.private[*].id
}

# Reflex waits for its state locks through keyspace notifications and turns them on
# with CONFIG SET, which ElastiCache refuses (hence REFLEX_IGNORE_REDIS_CONFIG_ERROR=1
# in ecs.tf). The parameter group sets the same flags Reflex asks for
# (reflex/istate/manager/redis.py, NOTIFY_KEYSPACE_EVENTS in Reflex 0.10):
# K keyspace events, $ string commands, s set commands, g generic commands (DEL,
# EXPIRE), x expired keys, e evicted keys.
resource "aws_elasticache_parameter_group" "main" {
  name        = "${local.name}-redis7"
  family      = "redis7"
  description = "${local.name}: keyspace notifications for Reflex's state locks"

  parameter {
    name  = "notify-keyspace-events"
    value = "K$sgxe"
  }
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = local.name
  description          = "${local.name}: Reflex state and app events"

  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.main.name

  num_cache_clusters         = var.redis_num_cache_clusters
  automatic_failover_enabled = var.redis_multi_az
  multi_az_enabled           = var.redis_multi_az

  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.main.arn
  transit_encryption_enabled = true
  auth_token                 = random_password.redis.result

  # No snapshots: Redis holds only transient state (page state that expires, events
  # in flight), nothing a restore could bring back usefully.
  snapshot_retention_limit   = 0
  auto_minor_version_upgrade = true
  maintenance_window         = "sun:04:30-sun:05:30"
  apply_immediately          = false

  lifecycle {
    precondition {
      condition     = !var.redis_multi_az || var.redis_num_cache_clusters >= 2
      error_message = "redis_multi_az needs redis_num_cache_clusters of at least 2 (a primary and a replica in another zone)."
    }
  }
}

locals {
  redis_url = "rediss://:${random_password.redis.result}@${aws_elasticache_replication_group.main.primary_endpoint_address}:6379/0"
}
