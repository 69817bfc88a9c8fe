# One customer-managed key, rotated yearly, encrypts the app's data at rest: media
# objects, secrets, logs, the database, Redis, the image repository, the jobs queues
# and the alarm topic. The account's IAM policies decide who uses it (the roles in
# iam.tf); the statements below are for the AWS services that need the key policy
# itself. (SQS needs none: only our task roles send and receive, queue.tf.)
# The policy is its own resource, so the key does not wait for the distribution it names.

resource "aws_kms_key" "main" {
  description             = "${local.name}: media, secrets, logs, database, Redis"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}

resource "aws_kms_key_policy" "main" {
  key_id = aws_kms_key.main.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersAndIAMPoliciesGrantUse"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*" # in a key policy, "*" is this key
      },
      {
        Sid       = "CloudWatchLogsEncryptsOurLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = [
              "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/${local.name}/app",
              "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/${local.name}/worker",
              "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/${local.name}/vpc-flow-logs",
            ]
          }
        }
      },
      {
        Sid       = "CloudFrontReadsRenditions"
        Effect    = "Allow"
        Principal = { Service = "cloudfront.amazonaws.com" }
        Action    = ["kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringEquals = { "AWS:SourceArn" = aws_cloudfront_distribution.main.arn }
        }
      },
      {
        Sid       = "CloudWatchAlarmsPublishToTheEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
}
