#!/usr/bin/env bash
# The lifecycle end to end in local mode against a fresh moto_server (needs moto and the AWS CLI):
# alias records over a live A record (RecordConflict), replace with an extra name, drift repair with
# certflow check, delete twice, one canary cycle. Output goes to stdout; intermediate JSON to /tmp/verify.
# Usage: bash scripts/local-lifecycle.sh   (PORT=5077 by default)
mkdir -p /tmp/verify
PORT=${PORT:-5077}
MOTO_ACM_VALIDATION_WAIT=2 moto_server -p $PORT >/tmp/verify/moto.log 2>&1 &
MOTO=$!
trap 'kill $MOTO' EXIT
sleep 3
export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
A="aws --endpoint-url $AWS_ENDPOINT_URL"
ZONE=$($A route53 create-hosted-zone --name example.com --caller-reference z-$$ --query HostedZone.Id --output text)
echo "zone $ZONE"
cf() { npx certflow "$@"; }
rec() { $A route53 list-resource-record-sets --hosted-zone-id $ZONE --query "ResourceRecordSets[?Name=='$1'].[Type,ResourceRecords[0].Value,AliasTarget.DNSName]" --output text; }

echo "== #8: alias records over a name that holds an A record"
$A route53 change-resource-record-sets --hosted-zone-id $ZONE --change-batch '{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"live.example.com","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.10"}]}}]}' >/dev/null
echo "before: $(rec live.example.com.)"
cf request live.example.com --origin origin.example.net --alias-records --local --quiet --json > /tmp/verify/conflict.json; echo "exit $?"
node -e 'const s=require("/tmp/verify/conflict.json");console.log("state",s.state,"error",s.error&&s.error.code,"-",s.error&&s.error.message)'
echo "after: $(rec live.example.com.)"
echo "distributions: $($A cloudfront list-distributions --query 'DistributionList.Quantity' --output text)"

echo "== #9: request with a distribution, then replace with an extra name"
cf request www.example.com --origin origin.example.net --local --quiet --json > /tmp/verify/first.json; echo "exit $?"
FIRST=$(node -p 'require("/tmp/verify/first.json").requestId')
node -e 'const s=require("/tmp/verify/first.json");console.log("first",s.requestId,s.state,"dist",s.distribution.id,"cert",s.certificate.arn)'
cf request www.example.com --san shop.example.com --origin origin-v2.example.net --replaces $FIRST --local --quiet --json > /tmp/verify/second.json; echo "exit $?"
SECOND=$(node -p 'require("/tmp/verify/second.json").requestId')
node -e 'const s=require("/tmp/verify/second.json");console.log("second",s.requestId,s.state,"dist",s.distribution&&s.distribution.id,"cert",s.certificate.arn)'
cf status $FIRST --local --json | node -e 'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{const s=JSON.parse(d);console.log("first now",s.state,"replacedBy",s.replacedBy,"retirement",JSON.stringify(s.retirement))})'
DIST=$(node -p 'require("/tmp/verify/second.json").distribution.id')
echo "aliases of $DIST: $($A cloudfront get-distribution-config --id $DIST --query 'DistributionConfig.Aliases.Items' --output text) cert: $($A cloudfront get-distribution-config --id $DIST --query 'DistributionConfig.ViewerCertificate.ACMCertificateArn' --output text)"
echo "certificates: $($A acm list-certificates --query 'CertificateSummaryList[].CertificateArn' --output text)"

echo "== #9: drift repair"
VAL=$(node -p 'require("/tmp/verify/second.json").validationRecords[0].name')
VALUE=$(node -p 'require("/tmp/verify/second.json").validationRecords[0].value')
$A route53 change-resource-record-sets --hosted-zone-id $ZONE --change-batch "{\"Changes\":[{\"Action\":\"DELETE\",\"ResourceRecordSet\":{\"Name\":\"$VAL\",\"Type\":\"CNAME\",\"TTL\":300,\"ResourceRecords\":[{\"Value\":\"$VALUE\"}]}}]}" >/dev/null
echo "deleted $VAL: now '$(rec $VAL)'"
cf check --local --json > /tmp/verify/check.json; echo "check exit $?"
node -e 'const r=require("/tmp/verify/check.json");for(const c of (r.certificates||r.checks||[])){console.log(c.requestId||"",c.renewal&&c.renewal.state||c.state||"",JSON.stringify((c.records||c.validationRecords||[]).map(x=>[x.name,x.state])))}'
echo "restored: '$(rec $VAL)'"

echo "== #9: delete, twice"
cf delete $SECOND --local --json > /tmp/verify/delete.json; echo "exit $?"
node -e 'const s=require("/tmp/verify/delete.json");console.log("deleted",s.state,JSON.stringify(s.retirement))'
cf delete $SECOND --local --json > /tmp/verify/delete2.json; echo "again exit $?"
node -e 'const s=require("/tmp/verify/delete2.json");console.log("again",s.state)'
echo "distributions: $($A cloudfront list-distributions --query 'DistributionList.Items[].[Id,Status,DistributionConfig.Enabled]' --output text)"
echo "certificates: $($A acm list-certificates --query 'CertificateSummaryList[].DomainName' --output text)"

echo "== #9: canary"
cat > /tmp/verify/canary.config.json <<JSON
{ "allowedDomainSuffixes": ["example.com"], "canary": { "domainName": "canary.example.com", "schedule": "rate(1 day)" } }
JSON
$A route53 create-hosted-zone --name canary.example.com --caller-reference c-$$ >/dev/null
cf canary --local --config /tmp/verify/canary.config.json --json > /tmp/verify/canary.json; echo "canary exit $?"
cat /tmp/verify/canary.json
echo "certificates after canary: $($A acm list-certificates --query 'CertificateSummaryList[].DomainName' --output text)"
