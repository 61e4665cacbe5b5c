print("brainctl")
