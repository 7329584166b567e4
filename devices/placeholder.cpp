namespace bootsim { void devices_placeholder() {} }
