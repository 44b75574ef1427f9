# Packages of the spanrec BR2_EXTERNAL tree.
include $(sort $(wildcard $(BR2_EXTERNAL_SPANREC_PATH)/package/*/*.mk))
