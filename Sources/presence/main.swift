print("presence")
