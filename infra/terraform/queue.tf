# The processing jobs: the web service stores an upload's original, then sends one
# message naming the image ({"image_id": "..."}, JOBS_BACKEND=sqs); the worker service
# (worker.tf) receives it, makes the renditions and marks the image ready.
#
# A standard queue: delivery is at least once, so the same job may arrive twice (the
# worker must find an image that is no longer processing and leave it alone).
#
# Attempts: the app counts them on the image's row and marks the image failed after
# the third (a crash counts too, because the message comes back once its lease runs out).
# SQS counts receives the same way, so after the third receive a message goes to the
# dead-letter queue instead of being handed out again: the two counts agree
# (local.job_max_attempts).
#
# Encryption: the app's customer-managed key (kms.tf), like everything else the app
# keeps. Only our own task roles send and receive, so the key policy needs no SQS
# statement: the roles' policies (iam.tf) allow the key's use through SQS
# only (kms:ViaService). No AWS service (S3 or SNS notifications, EventBridge) writes
# to these queues; one that should would need a key policy statement first.

locals {
  # imageshare's attempt limit per job; SQS's maxReceiveCount must equal it.
  job_max_attempts = 3
}

resource "aws_sqs_queue" "jobs" {
  name = "${local.name}-jobs"

  # JOB_LEASE_SECONDS: the worker asks for this lease on every receive and extends it
  # while an image is still being processed; the queue's default is the same, so a
  # message received any other way is not handed out twice sooner.
  visibility_timeout_seconds = var.job_lease_seconds
  # Long polling: an idle worker makes three requests a minute, not hundreds.
  receive_wait_time_seconds = 20
  message_retention_seconds = 345600 # 4 days
  # The body names one image (about 50 bytes): a small bound, with room to spare.
  max_message_size = 4096

  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.jobs_dead_letter.arn
    maxReceiveCount     = local.job_max_attempts
  })
}

# Messages whose job was attempted three times without success. Their images are
# marked failed by the app; the messages are kept for looking into (docs/deploy.md,
# "Dead-letter queue"). A message keeps its original enqueue time when it moves here,
# so this retention must be longer than the jobs queue's.
resource "aws_sqs_queue" "jobs_dead_letter" {
  name = "${local.name}-jobs-dead-letter"

  message_retention_seconds         = 1209600 # 14 days
  receive_wait_time_seconds         = 20
  visibility_timeout_seconds        = var.job_lease_seconds
  max_message_size                  = 4096
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

# Only the jobs queue may use this one as its dead-letter queue (and so only messages
# from it can be moved back there with a redrive).
resource "aws_sqs_queue_redrive_allow_policy" "jobs_dead_letter" {
  queue_url = aws_sqs_queue.jobs_dead_letter.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.jobs.arn]
  })
}

# No request without TLS, as for the buckets. Access itself is granted by the task
# roles' IAM policies (iam.tf); nothing here allows anyone anything.
data "aws_iam_policy_document" "jobs_queue" {
  for_each = {
    jobs        = aws_sqs_queue.jobs.arn
    dead_letter = aws_sqs_queue.jobs_dead_letter.arn
  }

  statement {
    sid       = "DenyWithoutTLS"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "jobs" {
  queue_url = aws_sqs_queue.jobs.id
  policy    = data.aws_iam_policy_document.jobs_queue["jobs"].json
}

resource "aws_sqs_queue_policy" "jobs_dead_letter" {
  queue_url = aws_sqs_queue.jobs_dead_letter.id
  policy    = data.aws_iam_policy_document.jobs_queue["dead_letter"].json
}
