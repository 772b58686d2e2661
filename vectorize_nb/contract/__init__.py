"""The contract both backends implement: the operations (`backend`), the values that cross them
(`models`), the rules and limits (`validation`, `limits`, `filters`), the errors (`errors`) and
Cloudflare's wire format (`wire`). Standard library, numpy and orjson only."""
