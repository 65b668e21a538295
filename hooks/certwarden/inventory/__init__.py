"""`certwarden inventory`: which certificate serves which appliance, and when each expires.

collect (rows: facts, keys, the certificates group's findings; cached by blob id) ->
build (repository groups, policy, statuses) -> a format in inventory.formats prints it.
"""
