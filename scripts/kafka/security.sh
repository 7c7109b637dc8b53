# Sourced by scripts/kafka.sh: `up --security sasl_ssl|mtls` (docs/operations.md,
# "Security"). Everything a secured node needs lives in the cluster's
# directory:
#
#   ca.pem ca.key               the CA that signed every certificate below
#   broker.pem broker.key       the brokers' certificate (CN=broker, SAN IP 127.0.0.1)
#   ROLE.pem ROLE.key           mtls: each user's client certificate (CN=ROLE)
#   ROLE.password               sasl_ssl: each user's SCRAM-SHA-512 password
#   ROLE.conf                   each role's ready orderflow configuration file
#   admin.properties            librdkafka properties of the super user, for admin.py
#
# The client listener is SASL_SSL (SCRAM-SHA-512, users created when storage
# is formatted) or SSL with client certificates required; the inter-broker
# and controller listeners are SSL with the broker's certificate required
# (CN=broker). Principals are Kafka's defaults: User:NAME for a SCRAM user,
# User:CN=NAME for a certificate whose subject is CN=NAME (no
# ssl.principal.mapping.rules), which is what orderflow's messages and the
# kafka-acls.sh lines they print assume. StandardAuthorizer denies whatever
# no ACL allows; admin and the brokers are super users.
#
# Passwords are random, written with mode 0600, and never on a command line:
# StorageTool reads its --add-scram arguments from an @file that is deleted
# after formatting.

# Users: the super user, then one per orderflow role (lag uses tail's).
SECURITY_ROLES="producer processor gateway redrive tail"
SECURITY_USERS="admin $SECURITY_ROLES"

# What each role needs and nothing more (docs/operations.md, "Security"):
# ROLE RESOURCE-TYPE PATTERN NAME OPERATION,...
# Kafka 3.x grants idempotent produce with Write on any topic (KIP-679), so
# no role needs IdempotentWrite on the cluster. A consumer that only assigns
# partitions (restore, tail, the gateway's readers) still looks up its
# group.id's coordinator: Describe on that group, nothing more.
security_acl_table() {
  cat <<'EOF'
producer topic literal order-created Write,Describe
processor topic literal order-created Read,Describe
processor topic literal data-processed Read,Write,Describe
processor topic literal order-created.dlq Read,Write,Describe
processor group literal orderflow-processor Read,Describe
processor group literal orderflow-restore Describe
processor transactional-id prefixed orderflow-processor- Write,Describe
gateway topic literal order-created Read,Write,Describe
gateway topic literal data-processed Read,Describe
gateway group literal orderflow-gateway-view Describe
gateway group literal orderflow-gateway-restore Describe
redrive topic literal order-created.dlq Read,Describe
redrive topic literal order-created Write,Describe
redrive group literal orderflow-redrive Read,Describe
tail topic literal order-created Read,Describe
tail topic literal data-processed Read,Describe
tail topic literal order-created.dlq Read,Describe
tail group literal orderflow-processor Describe
tail group literal orderflow-tail Describe
EOF
}

# security_principal USER: the principal Kafka gives USER in this mode.
security_principal() {
  if [ "$security" = mtls ]; then echo "User:CN=$1"; else echo "User:$1"; fi
}

security_check_option() {
  case ${security:-} in
    "" | sasl_ssl | mtls) ;;
    *) die "--security: sasl_ssl or mtls, not $security" ;;
  esac
}

# security_cert NAME CN [SAN]: NAME.key and NAME.pem signed by the CA.
security_cert() {
  local name=$1 cn=$2 san=${3:-} ext=$dir/$1.ext
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$cn" \
    -out "$dir/$name.csr" 2>"$dir/openssl.log" || die "openssl: $name's key: $(tail -2 "$dir/openssl.log")"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$ext" -out "$dir/$name.pem" 2>"$dir/openssl.log" ||
    die "openssl: signing $name's certificate: $(tail -2 "$dir/openssl.log")"
  rm -f "$dir/$name.csr" "$ext"
}

# The CA, the certificates, the passwords and StorageTool's @file of SCRAM
# users; before the nodes' storage is formatted.
security_setup() {
  command -v openssl >/dev/null || EXIT_STATUS=69 die "openssl not found: --security needs it (apt-get install openssl)"
  local old_umask user
  old_umask=$(umask)
  umask 077
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=orderflow test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>"$dir/openssl.log" ||
    die "openssl: the CA: $(tail -2 "$dir/openssl.log")"
  # Only the address the brokers advertise: a client that reaches them by
  # another name (localhost) fails host name verification, as it should.
  security_cert broker broker "IP:127.0.0.1"
  # Kafka's PEM key store: the unencrypted PKCS#8 key, then the certificate.
  cat "$dir/broker.key" "$dir/broker.pem" >"$dir/broker-keystore.pem"
  : >"$dir/format.args"
  for user in $SECURITY_USERS; do
    if [ "$security" = mtls ]; then
      security_cert "$user" "$user"
    else
      openssl rand -hex 24 >"$dir/$user.password"
      printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$user" \
        "$(cat "$dir/$user.password")" >>"$dir/format.args"
    fi
  done
  umask "$old_umask"
  security_admin_properties >"$dir/admin.properties"
  chmod 600 "$dir/admin.properties"
}

# StorageTool's extra arguments (an @file: no password on a command line).
security_format_args() {
  [ "${security:-}" = sasl_ssl ] && echo "@$dir/format.args"
  return 0
}

security_format_done() { rm -f "$dir/format.args"; }

# Properties appended to node $1's server.properties (later keys win).
security_properties() {
  local node=$1 client quorum inter
  client=$((port + node - 1)) quorum=$((port + 10 + node - 1)) inter=$((port + 20 + node - 1))
  local protocol=SASL_SSL
  [ "$security" = mtls ] && protocol=SSL
  cat <<EOF

# --security $security (scripts/kafka/security.sh)
listeners=CLIENT://127.0.0.1:$client,INTERNAL://127.0.0.1:$inter,CONTROLLER://127.0.0.1:$quorum
advertised.listeners=CLIENT://127.0.0.1:$client,INTERNAL://127.0.0.1:$inter
listener.security.protocol.map=CLIENT:$protocol,INTERNAL:SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
ssl.keystore.type=PEM
ssl.keystore.location=$dir/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/ca.pem
ssl.endpoint.identification.algorithm=https
listener.name.internal.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:CN=broker;$(security_principal admin)
EOF
  if [ "$security" = mtls ]; then
    echo "listener.name.client.ssl.client.auth=required"
  else
    echo "sasl.enabled.mechanisms=SCRAM-SHA-512"
    echo "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512"
    echo "listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
  fi
}

# security_client_properties USER: librdkafka properties of USER, one
# KEY=VALUE a line, the password excepted.
security_client_properties() {
  local user=$1
  echo "ssl.ca.location=$dir/ca.pem"
  if [ "$security" = mtls ]; then
    echo "security.protocol=SSL"
    echo "ssl.certificate.location=$dir/$user.pem"
    echo "ssl.key.location=$dir/$user.key"
  else
    echo "security.protocol=SASL_SSL"
    echo "sasl.mechanisms=SCRAM-SHA-512"
    echo "sasl.username=$user"
  fi
}

security_admin_properties() {
  security_client_properties admin
  [ "$security" = sasl_ssl ] && echo "sasl.password=$(cat "$dir/admin.password")"
  return 0
}

# DIR/ROLE.conf: orderflow's configuration file for ROLE; the password stays
# in ROLE.password (kafka.sasl_password_file), never in the file itself.
security_role_conf() {
  local role=$1 key value
  {
    echo "# orderflow configuration of the '$role' user of the secured Kafka in $dir"
    echo "# (scripts/kafka.sh up --security $security); see docs/operations.md, \"Security\"."
    echo "kafka:"
    echo "{"
    echo "    brokers = \"$(bootstrap)\";"
    [ "$security" = sasl_ssl ] && echo "    sasl_password_file = \"$dir/$role.password\";"
    echo "    properties:"
    echo "    {"
    while IFS='=' read -r key value; do
      echo "        \"$key\" = \"$value\";"
    done < <(security_client_properties "$role")
    echo "    };"
    echo "};"
  } >"$dir/$role.conf"
}

# The ACLs of the table, created as the super user.
security_acls() {
  local user rest
  security_acl_table | while read -r user rest; do echo "$(security_principal "$user") $rest"; done |
    JARS=$JARS $PY "$ADMIN" acls "$(bootstrap)" ||
    die "creating the ACLs failed (see above)"
}

# After the nodes answer: ACLs, then each role's configuration file.
security_up() {
  local role paths=""
  security_acls
  for role in $SECURITY_ROLES; do
    security_role_conf "$role"
    paths+=" $dir/$role.conf"
  done
  say "security: $security listener on $(bootstrap), ACLs enforced; users admin (super user) and $SECURITY_ROLES"
  echo "security $security"
  for role in $SECURITY_ROLES; do echo "config $role $dir/$role.conf"; done
}

# For admin.py: the super user's properties when the cluster is secured.
security_export_admin() {
  if [ -n "${security:-}" ] && [ -f "$dir/admin.properties" ]; then
    export ORDERFLOW_KAFKA_ADMIN_CONF=$dir/admin.properties
  fi
}

security_status() {
  [ -n "${security:-}" ] || { echo "security: none (PLAINTEXT, no ACLs)"; return 0; }
  local role
  case $security in
    sasl_ssl) echo "security: listener SASL_SSL (SCRAM-SHA-512) on $(bootstrap); ACLs enforced (StandardAuthorizer)" ;;
    mtls) echo "security: listener SSL with client certificates on $(bootstrap); ACLs enforced (StandardAuthorizer)" ;;
  esac
  echo "user admin: super user, $dir/admin.properties"
  for role in $SECURITY_ROLES; do
    echo "user $role: $dir/$role.conf"
  done
  $PY "$ADMIN" list-acls "$(bootstrap)" || true
}
