from carrier_simulator import main

if __name__ == "__main__":
    main()
