# Names and values shared by every file.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  # checkov:skip=CKV_AWS_394:Only the first two zones of the sorted list are used (local.azs); a zone AWS adds later sorts after them and changes nothing.
  state = "available"
}

locals {
  name       = var.name
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Two availability zones: the app, the database standby and the Redis replica each
  # have one in both.
  azs = slice(data.aws_availability_zones.available.names, 0, 2)

  # The site and its media share one origin: CloudFront serves the pages (from the ALB)
  # and, under renditions/, the images (from S3). So PUBLIC_URL and CDN_BASE_URL are
  # the same URL and images need no CORS.
  site_domain = var.domain_names[0]
  public_url  = "https://${local.site_domain}"

  tags = merge(
    {
      Application = var.name
      ManagedBy   = "terraform"
    },
    var.tags,
  )
}
