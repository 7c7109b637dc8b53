# Peer: the processing rules in jq, one order_created envelope per input line,
# out: "KEY<TAB>data_processed JSON" for kcat -P -K '\t'. Validation is
# reduced to what jq can say cheaply; invalid lines are dropped (counted by
# the benchmark as missing outputs).
select(.type == "order_created" and .schemaversion == 1 and (.data | type) == "object")
| .data as $d
| ([$d.items[] | .quantity] | add) as $q
| ([$d.items[] | .quantity * .unit_price_cents] | add) as $t
| (if ($d.items | length) == 0 then "order has no items"
   elif any($d.items[]; .quantity < 1) then "an item quantity is below 1"
   elif any($d.items[]; .unit_price_cents < 0) then "negative unit price"
   elif ($d.currency | test("^[A-Z]{3}$") | not) then "currency is not three capital letters"
   else null end) as $reason
| {specversion: "1.0", id: .id, source: "jq-processor", type: "data_processed",
   time: (now | todate), datacontenttype: "application/json",
   idempotencykey: ("data_processed:" + .idempotencykey), subject: .subject,
   correlationid: (.correlationid // .id), causationid: .id, schemaversion: 1,
   data: ({order_id: $d.order_id, customer_id: $d.customer_id, currency: $d.currency,
           item_count: ($d.items | length), quantity_total: $q, total_cents: $t,
           status: (if $reason then "rejected" else "accepted" end)}
          + (if $reason then {reason: $reason} else {} end))}
| "\(.subject)\t\(tojson)"
