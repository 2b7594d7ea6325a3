print("tooltool: not implemented yet")
