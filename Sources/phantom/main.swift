print("phantom")
