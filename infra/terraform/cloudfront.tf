# One CloudFront distribution in front of everything, on the site's own names:
#
#   /renditions/*   -> the media bucket through Origin Access Control (SigV4), cached,
#                      signed URLs required (trusted key group below)
#   everything else -> the load balancer (HTTPS only), never cached, every viewer
#                      header, cookie and query string forwarded; /_event (Reflex's
#                      websocket), /_upload, /graphql and /auth/* also have behaviours of
#                      their own so that no later caching change can reach them
#
# Signed URLs, and why every rendition URL is signed
# --------------------------------------------------
# CloudFront checks signatures only on behaviours that name trusted key groups, and
# there it refuses every unsigned request; it cannot tell a private image's renditions
# from a public one's (the keys look alike: renditions/{id}/{name}.webp, random ids).
# So there are two coherent choices:
#   (a) an unsigned media behaviour: public images work, but then a private image's
#       renditions are readable by anyone who keeps its URL (or once had it), for ever, and
#       a signed ten-minute URL would be decoration;
#   (b) a signed media behaviour: every rendition URL is a CloudFront signed URL.
# We take (b), which is what the app does (imageshare/images/cdn.py): with
# CLOUDFRONT_KEY_PAIR_ID and CLOUDFRONT_PRIVATE_KEY set, private images get URLs that
# expire in ten minutes, and public and unlisted ones get URLs that stay the same for a
# week and expire a week after that, so browsers and this cache treat them like plain
# URLs (the signature's query string is not part of the cache key). Originals never go
# through CloudFront at all: the bucket policy lets the distribution read renditions/
# only, and the owner downloads an original through a presigned S3 URL.
#
# The signing key pair is generated here (tls provider): the public half becomes the
# CloudFront public key in the key group, the private half goes to Secrets Manager as
# CLOUDFRONT_PRIVATE_KEY, and its id is CLOUDFRONT_KEY_PAIR_ID. No key material is
# handled by hand; it is in the Terraform state, which must be encrypted and private.
# Rotate with `terraform apply -replace=tls_private_key.cloudfront`, then redeploy.

resource "tls_private_key" "cloudfront" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "aws_cloudfront_public_key" "media" {
  name_prefix = "${local.name}-media-"
  comment     = "${local.name}: signs media URLs (CLOUDFRONT_KEY_PAIR_ID)"
  encoded_key = tls_private_key.cloudfront.public_key_pem

  # A new key joins the key group before the old one is removed.
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudfront_key_group" "media" {
  name    = "${local.name}-media"
  comment = "Keys whose signatures the media behaviour accepts"
  items   = [aws_cloudfront_public_key.media.id]
}

resource "aws_cloudfront_origin_access_control" "media" {
  name                              = "${local.name}-media"
  description                       = "CloudFront reads renditions from the media bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

data "aws_cloudfront_cache_policy" "caching_disabled" {
  name = "Managed-CachingDisabled"
}

data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

data "aws_cloudfront_origin_request_policy" "all_viewer" {
  name = "Managed-AllViewer"
}

resource "aws_cloudfront_response_headers_policy" "main" {
  # checkov:skip=CKV_AWS_259:HSTS is on for a year with subdomains; "preload" is left off because only the registrable domain's owner can ask browsers to preload it.
  name    = "${local.name}-security-headers"
  comment = "HSTS, nosniff, framing and referrer rules for every response"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      preload                    = false
      override                   = true
    }

    content_type_options {
      override = true
    }

    frame_options {
      frame_option = "SAMEORIGIN"
      override     = false
    }

    referrer_policy {
      referrer_policy = "strict-origin-when-cross-origin"
      override        = false
    }
  }
}

locals {
  app_origin_id   = "app-alb"
  media_origin_id = "media-s3"

  # Dynamic paths that must never be cached, whatever the default behaviour becomes.
  uncached_paths = ["/_event*", "/_upload*", "/graphql*", "/auth/*"]
}

resource "aws_cloudfront_distribution" "main" {
  # checkov:skip=CKV_AWS_68:No WAF by default: AWS's managed rule sets block image uploads (bodies over 8 KB) unless tuned. Attach a tuned web ACL through var.cloudfront_web_acl_arn.
  # checkov:skip=CKV2_AWS_47:The same: a WAF with the Log4j rule set attaches through var.cloudfront_web_acl_arn.
  # checkov:skip=CKV_AWS_86:CloudFront standard logs need a bucket with ACLs enabled; requests reaching the app are in the load balancer's access logs, media hits are in CloudFront's metrics.
  # checkov:skip=CKV_AWS_310:There is one app origin and one bucket; a failover origin would be a second region's deployment.
  # checkov:skip=CKV_AWS_374:The site is for everyone; no country is blocked.
  # checkov:skip=CKV_AWS_305:The root path is served by the app (the gallery), not by an object.
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  comment         = "${local.name}: site (load balancer) and media (S3)"
  aliases         = var.domain_names
  price_class     = var.cloudfront_price_class
  web_acl_id      = var.cloudfront_web_acl_arn

  origin {
    origin_id   = local.app_origin_id
    domain_name = aws_lb.main.dns_name

    custom_origin_config {
      http_port                = 80
      https_port               = 443
      origin_protocol_policy   = "https-only"
      origin_ssl_protocols     = ["TLSv1.2"]
      origin_read_timeout      = 60
      origin_keepalive_timeout = 60
    }

    # The load balancer forwards only requests that carry this header (alb.tf).
    custom_header {
      name  = local.origin_verify_header
      value = random_password.origin_verify.result
    }
  }

  origin {
    origin_id                = local.media_origin_id
    domain_name              = aws_s3_bucket.media.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.media.id
  }

  # Media: only signed URLs (see the top of this file), cached at the edge.
  ordered_cache_behavior {
    path_pattern               = "/renditions/*"
    target_origin_id           = local.media_origin_id
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "redirect-to-https"
    compress                   = false # WebP is compressed already
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.main.id
    trusted_key_groups         = [aws_cloudfront_key_group.media.id]
  }

  # The websocket (/_event), uploads, the API and sign-in: straight to the app.
  # CloudFront passes websockets through on any behaviour that forwards the viewer's
  # headers (AllViewer includes Upgrade and Sec-WebSocket-*).
  dynamic "ordered_cache_behavior" {
    for_each = local.uncached_paths

    content {
      path_pattern               = ordered_cache_behavior.value
      target_origin_id           = local.app_origin_id
      allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
      cached_methods             = ["GET", "HEAD"]
      viewer_protocol_policy     = "redirect-to-https"
      compress                   = false
      cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
      origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer.id
      response_headers_policy_id = aws_cloudfront_response_headers_policy.main.id
    }
  }

  # Everything else (pages, /s/{code} previews, /healthz, the frontend's files): the
  # app, uncached, so what the app answers is what every viewer gets.
  default_cache_behavior {
    target_origin_id           = local.app_origin_id
    allowed_methods            = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
    cached_methods             = ["GET", "HEAD"]
    viewer_protocol_policy     = "redirect-to-https"
    compress                   = false
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_disabled.id
    origin_request_policy_id   = data.aws_cloudfront_origin_request_policy.all_viewer.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.main.id
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = var.cloudfront_certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }
}

# Optional DNS: alias records for every site name, when the zone is in Route 53.
resource "aws_route53_record" "site" {
  for_each = var.route53_zone_id == "" ? {} : {
    for pair in setproduct(var.domain_names, ["A", "AAAA"]) : "${pair[0]} ${pair[1]}" => { name = pair[0], type = pair[1] }
  }

  zone_id = var.route53_zone_id
  name    = each.value.name
  type    = each.value.type

  alias {
    name                   = aws_cloudfront_distribution.main.domain_name
    zone_id                = aws_cloudfront_distribution.main.hosted_zone_id
    evaluate_target_health = false
  }
}
